// EXPECT-style check that a call throws eddl::Error whose message contains `needle`.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "eddl/error.h"

inline void expect_error(const std::function<void()>& f, const std::string& needle) {
    try {
        f();
        ADD_FAILURE() << "expected eddl::Error containing '" << needle << "'";
    } catch (const eddl::Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}
