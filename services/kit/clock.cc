#include "services/kit/clock.h"

namespace kit {

Clock& RealClock() {
  static SystemClock* clock = new SystemClock();
  return *clock;
}

}  // namespace kit
