// ECVL, the DeepHealth computer-vision library: include this one header.
#pragma once
#include "ecvl/augment.h"
#include "ecvl/dataset.h"
#include "ecvl/error.h"
#include "ecvl/image.h"
#include "ecvl/imgproc.h"
#include "ecvl/io.h"
#include "ecvl/openslide.h"
