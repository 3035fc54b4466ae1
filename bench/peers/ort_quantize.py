"""onnxruntime's quantize_static on a float model: the int8 peer of `nnzip quantize`.

QDQ, per-channel symmetric int8 weights, int8 asymmetric activations, MinMax
calibration on the given images (float32, N x C x H x W, raw little-endian, the
shape in the file name's sidecar). How fixtures/models/*_int8_qdq.onnx were made:

    python3 bench/peers/ort_quantize.py MODEL.onnx IMAGES.f32 N C H W OUT.onnx
"""
import sys

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static


class Images(CalibrationDataReader):
    def __init__(self, images, name):
        self.batches = iter([{name: images[i:i + 1]} for i in range(images.shape[0])])

    def get_next(self):
        return next(self.batches, None)


def main():
    model, path, n, c, h, w, out = sys.argv[1:8]
    images = np.fromfile(path, dtype='<f4').reshape(int(n), int(c), int(h), int(w))
    import onnx
    name = onnx.load(model).graph.input[0].name
    quantize_static(model, out, Images(images, name), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)


if __name__ == '__main__':
    main()
