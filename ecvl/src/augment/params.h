// The parameter table of an augmentation, walked by visitors: the text parser fills it, ToText
// writes it, the constructors check it. One table per class (its Describe) keeps the three in step.
// Internal to ECVL.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ecvl/augment.h"

namespace ecvl::detail {

/// Bounds of a number (or of each end of a range, or each vector element).
struct Limits {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false, hi_open = false;  // lo < v instead of lo <= v
    bool integer = false;
    bool required = false;  // must be given in the text (ranges, numbers)
};

struct VectorLimits {
    Limits each;
    size_t min_size = 1, max_size = SIZE_MAX;
    bool number_ok = false;   // a single number stands for a one-element vector
    bool required = false;    // must be given in the text
    bool may_be_empty = false;  // empty means absent (center: the image centre)
};

/// Empty when v satisfies l, else what it must be ("must be > 0").
std::string Violation(const Limits& l, double v);

class ParamVisitor {
public:
    virtual ~ParamVisitor() = default;
    virtual void RangeParam(const char* name, Range& r, const Limits& l) = 0;
    virtual void NumberParam(const char* name, double& v, const Limits& l) = 0;
    virtual void VectorParam(const char* name, std::vector<double>& v, const VectorLimits& l) = 0;
    virtual void InterpParam(const char* name, InterpolationType& t) = 0;
    virtual void BorderParam(const char* name, BorderType& t) = 0;
};

const char* InterpName(InterpolationType t);
const char* BorderName(BorderType t);
/// The enum of a text name; false when unknown. `names` receives the accepted spellings.
bool InterpFromName(const std::string& s, InterpolationType& t, std::string& names);
bool BorderFromName(const std::string& s, BorderType& t, std::string& names);

/// Shortest text that reads back to the same double ("0.7", "30", "-0.3", "1e-05").
std::string FormatNumber(double v);

}  // namespace ecvl::detail
