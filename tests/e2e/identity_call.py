#!/usr/bin/python3
"""Calls tickets' GetTicket straight on the service port, as any pod could,
with an identity made by hand (stdlib HMAC, not the suite's code), and prints
the gRPC status code name.

  identity_call.py ADDR KEY_FILE forged|expired|wrong-key|valid [TLS_DIR]

With TLS_DIR (ca.pem, client.pem, client.key) the call is TLS with a client
certificate, the server verified as "localhost".
"""
import base64
import hashlib
import hmac
import json
import sys
import time

import grpc


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(key, exp_offset):
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"iss": "gateway", "aud": "tickets", "sub": "user:probe",
                             "roles": "manager", "iat": now + exp_offset - 60,
                             "exp": now + exp_offset}).encode())
    mac = hmac.new(key, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(mac)}"


def main():
    addr, key_file, mode = sys.argv[1:4]
    key = open(key_file, "rb").read().strip()
    metadata = {
        "forged": [("x-estate-caller", "user:boss"), ("x-estate-roles", "manager,admin")],
        "expired": [("x-estate-identity", token(key, -120))],
        "wrong-key": [("x-estate-identity", token(b"not-the-key-" * 4, 60))],
        "valid": [("x-estate-identity", token(key, 60))],
    }[mode]
    if len(sys.argv) > 4:
        tls = sys.argv[4]
        creds = grpc.ssl_channel_credentials(
            root_certificates=open(f"{tls}/ca.pem", "rb").read(),
            private_key=open(f"{tls}/client.key", "rb").read(),
            certificate_chain=open(f"{tls}/client.pem", "rb").read())
        channel = grpc.secure_channel(addr, creds,
                                      options=[("grpc.ssl_target_name_override", "localhost")])
    else:
        channel = grpc.insecure_channel(addr)
    call = channel.unary_unary("/estate.tickets.v1.TicketService/GetTicket")
    # GetTicketRequest{name: "sites/north/tickets/999999999"}: field 1, a string.
    name = b"sites/north/tickets/999999999"
    try:
        call(b"\x0a" + bytes([len(name)]) + name, metadata=metadata, timeout=5)
        print("OK")
    except grpc.RpcError as e:
        print(e.code().name)


main()
