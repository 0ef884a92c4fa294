// Command line and result reporting shared by the examples.
#pragma once
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

namespace example {

/// Command line of the examples: --epochs N --threads N --min-accuracy A (or --min-dice D).
struct Args {
    int epochs = 5, threads = -1;
    float min_score = 0;
};

inline Args parse_args(int argc, char** argv, int default_epochs) {
    Args a;
    a.epochs = default_epochs;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--epochs")) a.epochs = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) a.threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--min-accuracy") || !std::strcmp(argv[i], "--min-dice"))
            a.min_score = std::atof(argv[i + 1]);
        else throw std::invalid_argument(std::string("unknown option ") + argv[i]);
    }
    if (argc % 2 == 0) throw std::invalid_argument(std::string("option ") + argv[argc - 1] + " needs a value");
    return a;
}

/// Prints a held-out score ("Test accuracy: 0.91"); exit status 1 when it is below the minimum.
inline int report_score(const std::string& what, double value, float minimum) {
    std::cout << "Test " << what << ": " << value << "\n";
    if (value < minimum) {
        std::cerr << "test " << what << " " << value << " is below the required " << minimum << "\n";
        return 1;
    }
    return 0;
}

}  // namespace example
