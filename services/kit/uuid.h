#ifndef ESTATE_SERVICES_KIT_UUID_H_
#define ESTATE_SERVICES_KIT_UUID_H_

#include <string>

namespace kit {

// A random version-4 UUID in canonical form (request ids, outbox ids).
std::string NewUuid();

}  // namespace kit

#endif  // ESTATE_SERVICES_KIT_UUID_H_
