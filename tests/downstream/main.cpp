#include <ecvl/ecvl.h>
#include <ecvl/support_eddl.h>
#include <eddl/eddl.h>

#include <iostream>

using namespace eddl;

int main() {
    // ECVL: an image, a view, a conversion
    ecvl::Image img({8, 6, 3}, ecvl::DataType::uint8, "xyc", ecvl::ColorType::RGB);
    img.SetTo(200);
    ecvl::Image patch = ecvl::View(img, {2, 2, 0}, {4, 3, -1});
    patch.ConvertTo(ecvl::DataType::uint8);
    ecvl::Image f;
    ecvl::ConvertTo(patch, f, ecvl::DataType::float32);
    if (f.Get({3, 2, 2}) != 200.0) return 1;
    // The interface: the patch as a {3, 3, 4} tensor
    tensor t = ecvl::ImageToTensor(patch);
    if (t->getShape() != Shape{3, 3, 4} || t->get({2, 1, 3}) != 200.0f) return 1;

    // EDDL: a small network
    layer in = Input({4});
    layer out = Softmax(Dense(ReLu(Dense(in, 8)), 3));
    model net = Model({in}, {out});
    build(net, adam(0.01f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(1));
    tensor x = Tensor::randn({32, 4}, 7);
    tensor y = Tensor::zeros({32, 3});
    for (int i = 0; i < 32; ++i) y->set({i, i % 3}, 1.0f);
    fit(net, {x}, {y}, 8, 2, FitOptions{.verbose = 0});
    std::cout << "downstream ok, loss " << get_losses(net)[0] << "\n";
    return 0;
}
