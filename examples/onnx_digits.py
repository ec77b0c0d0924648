"""Train the digits CNN, export it to ONNX, run it in ONNX Runtime.

Trains ``fastnn.cli.build_digits_cnn`` on the bundled 8x8 handwritten
digits, writes ``digits_cnn.onnx`` with a dynamic batch axis, runs the
test images through both fastnn and ONNX Runtime, and prints both
outputs and the largest difference.  Then loads the ONNX file back into
fastnn (``fastnn.onnx.load``) and checks it gives the same answers.

Needs ``pip install "fastnn[onnx]"`` (onnx and onnxruntime).
"""
import numpy as np

import fastnn
import fastnn.nn as nn
from fastnn import optim
from fastnn.cli import build_digits_cnn, digits_split
from fastnn.data import DataLoader, TensorDataset


def train(model, x, y, epochs=8, seed=0):
    opt = optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, seed=seed)
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    return model


def main():
    try:
        import onnxruntime as ort
        import onnx  # noqa: F401
    except ImportError:
        print('onnx and onnxruntime are not installed: pip install "fastnn[onnx]"')
        return
    fastnn.manual_seed(0)
    xtr, ytr, xte, yte = digits_split(seed=0)
    model = train(build_digits_cnn(), xtr, ytr).eval()

    path = "digits_cnn.onnx"
    fastnn.onnx.export(model, fastnn.tensor(xte[:1]), path, input_names=["image"],
                       output_names=["logits"],
                       dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"exported {path}")

    with fastnn.no_grad():
        ours = model(fastnn.tensor(xte)).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    theirs = sess.run(["logits"], {"image": xte})[0]

    np.set_printoptions(precision=4, suppress=True)
    print("first test image, fastnn logits:      ", ours[0])
    print("first test image, onnxruntime logits: ", theirs[0])
    acc_f = float((ours.argmax(1) == yte).mean())
    acc_o = float((theirs.argmax(1) == yte).mean())
    print(f"test accuracy: fastnn {acc_f:.2%}, onnxruntime {acc_o:.2%} "
          f"({len(yte)} images)")
    diff = float(np.abs(ours - theirs).max())
    print(f"largest |fastnn - onnxruntime| difference: {diff:.2e}")

    back = fastnn.onnx.load(path).eval()
    with fastnn.no_grad():
        again = back(fastnn.tensor(xte)).numpy()
    print(f"re-imported into fastnn: largest difference {float(np.abs(again - ours).max()):.2e}")


if __name__ == "__main__":
    main()
