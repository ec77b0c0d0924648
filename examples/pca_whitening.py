"""PCA and whitening on the bundled digits (course notes: data preprocessing).

Centres the 64 pixel features, projects them on the principal components,
divides by the square root of each component's variance, and checks that
the whitened data have identity covariance; then reconstructs images from a
few components.

    python examples/pca_whitening.py
"""
import numpy as np

from fastnn.data import PCA, load_digits


def main():
    x, y = load_digits()
    xf = x.reshape(len(x), -1).astype(np.float64)
    full = PCA().fit(xf)
    cum = np.cumsum(full.explained_variance_ratio_)
    for k in (2, 10, 20, 40):
        print(f"{k:2d} components explain {100 * cum[k - 1]:5.1f}% of the variance")

    pca = PCA(n_components=20, whiten=True).fit(xf)
    z = pca.transform(xf)
    cov = np.cov(z, rowvar=False)
    err = np.abs(cov - np.eye(20)).max()
    print(f"whitened covariance: max |C - I| = {err:.2e}")
    assert err < 1e-6

    for k in (5, 20, 40):
        p = PCA(k).fit(xf)
        rec = p.inverse_transform(p.transform(xf))
        print(f"reconstruction RMS error with {k:2d} components: "
              f"{np.sqrt(np.mean((rec - xf) ** 2)):.3f} (pixel range 0..16)")


if __name__ == "__main__":
    main()
