#ifndef ESTATE_TOOLS_DEMO_AREA_B_H_
#define ESTATE_TOOLS_DEMO_AREA_B_H_

// Area B of the demo site: the forty new flats of buildings B1 and B2. The
// archives demo registers them (vacant, their keys in the cabinet) and the
// handover demo hands them over; both name them from here, because
// completion's effects (owners in the register, keys handed, billing
// accounts) land only on units the register knows by exactly these ids.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace demo {

struct AreaBUnit {
  std::string id;        // "B1-2-0304": building-entrance-floor+flat, as in Area A
  std::string building;  // "B1"
  int floor = 0;
  std::string number;   // "0304", the door plate
  std::string area_m2;  // "128.72": the register's area and the billable one
  std::string layout;
};

// B1 then B2; floors 1 to 5; flats 1 to 4 (1 and 2 on entrance 1, 3 and 4
// on entrance 2). The order is the handover demo's plan order.
inline std::vector<AreaBUnit> AreaBUnits() {
  std::vector<AreaBUnit> out;
  for (const char* building : {"B1", "B2"}) {
    for (int floor = 1; floor <= 5; ++floor) {
      for (int flat = 1; flat <= 4; ++flat) {
        const bool end_flat = flat == 1 || flat == 4;  // the larger flats
        AreaBUnit u;
        u.number = absl::StrFormat("%02d%02d", floor, flat);
        u.id = absl::StrCat(building, "-", (flat + 1) / 2, "-", u.number);
        u.building = building;
        u.floor = floor;
        u.area_m2 = end_flat ? "128.72" : "96.48";
        u.layout = end_flat ? "3 bed, 2 living" : "2 bed, 1 living";
        out.push_back(std::move(u));
      }
    }
  }
  return out;
}

}  // namespace demo

#endif  // ESTATE_TOOLS_DEMO_AREA_B_H_
