#include "ecvl/ecvl.h"
