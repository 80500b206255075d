#ifndef ESTATE_GATEWAY_OPENAPI_H_
#define ESTATE_GATEWAY_OPENAPI_H_

#include <string>

#include "gateway/catalog.h"

namespace gateway {

// An OpenAPI 3.0 description of every HTTP route in the catalog, generated
// from the same descriptors and bindings the gateway routes with, so the two
// cannot disagree. Served at /openapi.json.
std::string OpenApiJson(const Catalog& catalog);

}  // namespace gateway

#endif  // ESTATE_GATEWAY_OPENAPI_H_
