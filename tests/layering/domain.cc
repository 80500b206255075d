// Never compiled: the layering check runs at configure time.
