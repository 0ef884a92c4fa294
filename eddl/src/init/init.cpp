#include "init/init.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/random.h"

namespace eddl {

void Initializer::apply(Tensor& w, int fan_in, int fan_out, uint64_t s) const {
    Rng rng(s);
    const float fi = float(std::max(fan_in, 1)), fo = float(std::max(fan_out, 1));
    auto uniform = [&](float lim) { for (int64_t i = 0; i < w.size; ++i) w.ptr[i] = rng.uniform(-lim, lim); };
    auto normal = [&](float m, float sd) { for (int64_t i = 0; i < w.size; ++i) w.ptr[i] = m + sd * float(rng.normal()); };
    switch (kind) {
        case InitKind::GlorotUniform: uniform(std::sqrt(6.0f / (fi + fo))); break;
        case InitKind::GlorotNormal: normal(0, std::sqrt(2.0f / (fi + fo))); break;
        case InitKind::HeUniform: uniform(std::sqrt(6.0f / fi)); break;
        case InitKind::HeNormal: normal(0, std::sqrt(2.0f / fi)); break;
        case InitKind::RandomNormal: normal(a, b); break;
        case InitKind::RandomUniform: for (int64_t i = 0; i < w.size; ++i) w.ptr[i] = rng.uniform(a, b); break;
        case InitKind::Constant: w.fill_(a); break;
        case InitKind::Orthogonal: {
            // Rows of the flattened {rows, cols} matrix (or its columns, whichever are fewer) made
            // orthonormal by modified Gram-Schmidt on a Gaussian draw, in double precision.
            const int64_t rows = w.ndim ? w.shape[0] : 1, cols = rows ? w.size / rows : 0;
            const bool tr = rows > cols;
            const int64_t r = tr ? cols : rows, c = tr ? rows : cols;
            std::vector<double> m(size_t(r * c));
            for (auto& v : m) v = rng.normal();
            for (int64_t i = 0; i < r; ++i) {
                double* vi = &m[size_t(i * c)];
                for (int64_t j = 0; j < i; ++j) {
                    const double* vj = &m[size_t(j * c)];
                    double dot = 0;
                    for (int64_t k = 0; k < c; ++k) dot += vi[k] * vj[k];
                    for (int64_t k = 0; k < c; ++k) vi[k] -= dot * vj[k];
                }
                double nrm = 0;
                for (int64_t k = 0; k < c; ++k) nrm += vi[k] * vi[k];
                nrm = std::sqrt(nrm) + 1e-30;
                for (int64_t k = 0; k < c; ++k) vi[k] /= nrm;
            }
            const float gain = a == 0 ? 1.0f : a;
            for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j)
                    w.ptr[i * cols + j] = gain * float(tr ? m[size_t(j * c + i)] : m[size_t(i * c + j)]);
            break;
        }
    }
}

std::string Initializer::str() const {
    static const char* names[] = {"GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
                                  "RandomNormal", "RandomUniform", "Constant", "Orthogonal"};
    std::ostringstream os;
    os << names[int(kind)] << " " << a << " " << b << " " << seed;
    return os.str();
}

void Regularizer::add_gradient(const Tensor& w, Tensor& g) const {
    const auto& k = kernels(w.device);
    if (l1 != 0) {
        Tensor sign(w.shape, w.device);
        k.unary(UnaryOp::Sign, w.ptr, sign.ptr, w.size, 0, 0);
        k.axpby(l1, sign.ptr, 1.0f, g.ptr, w.size);
    }
    if (l2 != 0) k.axpby(2.0f * l2, w.ptr, 1.0f, g.ptr, w.size);
}

std::string Regularizer::str() const {
    std::ostringstream os;
    os << l1 << " " << l2;
    return os.str();
}

}  // namespace eddl
