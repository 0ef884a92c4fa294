// U-Net segmentation on synthetic images the example draws itself: discs, rectangles and
// triangles of random size and contrast on noisy, unevenly lit backgrounds, with their exact
// masks. Trains on one set, reports Dice on a held-out set drawn with another seed.
// Usage: unet_segmentation [--epochs N] [--threads N] [--min-dice D]
#include <cmath>
#include <random>

#include <eddl/eddl.h>
#include <eddl/zoo.h>

#include "example_args.h"

using namespace eddl;

namespace {

constexpr int kSize = 48;

// One image [1, S, S] and its mask: background = slanted illumination + Gaussian noise; 1-3
// shapes, each brighter than its surroundings by a random contrast.
void draw_sample(std::mt19937& rng, float* img, float* mask) {
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::normal_distribution<float> noise(0.0f, 0.25f);
    const float gx = u(rng) - 0.5f, gy = u(rng) - 0.5f;
    for (int y = 0; y < kSize; ++y)
        for (int x = 0; x < kSize; ++x) {
            img[y * kSize + x] = gx * x / kSize + gy * y / kSize + noise(rng);
            mask[y * kSize + x] = 0.0f;
        }
    const int shapes = 1 + int(u(rng) * 3);
    for (int s = 0; s < shapes; ++s) {
        const int kind = int(u(rng) * 3);
        const float cx = 8 + u(rng) * (kSize - 16), cy = 8 + u(rng) * (kSize - 16);
        const float r = 4 + u(rng) * 7, contrast = 0.6f + 0.6f * u(rng);
        for (int y = 0; y < kSize; ++y)
            for (int x = 0; x < kSize; ++x) {
                const float dx = x - cx, dy = y - cy;
                bool inside;
                if (kind == 0) inside = dx * dx + dy * dy <= r * r;                       // disc
                else if (kind == 1) inside = std::abs(dx) <= r && std::abs(dy) <= 0.6f * r;  // rectangle
                else inside = dy <= r && dy >= -r && std::abs(dx) <= (dy + r) / 2;        // triangle
                if (inside && mask[y * kSize + x] == 0.0f) {
                    img[y * kSize + x] += contrast;
                    mask[y * kSize + x] = 1.0f;
                }
            }
    }
}

void make_set(int n, uint32_t seed, tensor& x, tensor& y) {
    x = Tensor::zeros({n, 1, kSize, kSize});
    y = Tensor::zeros({n, 1, kSize, kSize});
    std::mt19937 rng(seed);
    for (int i = 0; i < n; ++i) draw_sample(rng, x->ptr + int64_t(i) * kSize * kSize, y->ptr + int64_t(i) * kSize * kSize);
}

}  // namespace

int main(int argc, char** argv) try {
    const example::Args args = example::parse_args(argc, argv, 8);

    tensor x_tr, y_tr, x_ts, y_ts;
    make_set(512, 1, x_tr, y_tr);
    make_set(128, 2, x_ts, y_ts);  // held out: never seen in training

    // 3 levels, 16 base filters: 0.48 M parameters, sigmoid output {1, 48, 48}
    model net = UNet({1, kSize, kSize}, 1, 3, 16);
    build(net, adam(0.003f), {"dice"}, {"dice"}, CS_CPU(args.threads));
    summary(net);

    fit(net, {x_tr}, {y_tr}, 16, args.epochs);
    const double dice = evaluate(net, {x_ts}, {y_ts}, 16).at("dice");
    return example::report_score("dice", dice, args.min_score);
} catch (const std::exception& e) {
    std::cerr << "unet_segmentation: " << e.what() << "\n";
    return 2;
}
