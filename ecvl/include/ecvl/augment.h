#pragma once
#include "ecvl/image.h"
