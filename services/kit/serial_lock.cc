#include "services/kit/serial_lock.h"

#include <string>

namespace kit {

absl::Status SerializeOn(Conn& c, absl::string_view name) {
  // An upsert locks the row exclusively whether it inserted it or found it,
  // and a second caller's insert of a row not yet committed waits as well.
  return c
      .Exec("INSERT INTO serial_locks (name) VALUES (?) ON DUPLICATE KEY UPDATE name = name",
            {std::string(name)})
      .status();
}

}  // namespace kit
