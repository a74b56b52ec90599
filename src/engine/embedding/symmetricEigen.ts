/**
 * Eigen-decomposition of small dense symmetric matrices (cyclic Jacobi rotations), for PCA: the
 * Rayleigh–Ritz step of the subspace iteration in `pca.ts` and covariance matrices of a few dozen
 * dimensions. Jacobi is O(d³) per sweep with a handful of sweeps: fine up to ~100 dimensions,
 * and it gives orthonormal eigenvectors to machine precision, which the PCA tests rely on.
 */

export interface SymmetricEigen {
  /** Eigenvalues in decreasing order. */
  values: Float64Array;
  /** Eigenvectors as the columns of a row-major d×d matrix (`vectors[i * d + j]` = component i of vector j). */
  vectors: Float64Array;
}

/** `a` is a row-major d×d symmetric matrix; it is not modified. */
export function symmetricEigen(a: ArrayLike<number>, d: number): SymmetricEigen {
  const m = Float64Array.from(a as ArrayLike<number>);
  if (m.length !== d * d) throw new Error(`symmetricEigen: expected ${d * d} values for a ${d}×${d} matrix, got ${m.length}`);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale = Math.max(scale, Math.abs(m[i]));
  const eps = 1e-15 * Math.max(scale, Number.MIN_VALUE);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off = Math.max(off, Math.abs(m[p * d + q]));
    if (off <= eps) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q];
        if (Math.abs(apq) <= eps) continue;
        const app = m[p * d + p];
        const aqq = m[q * d + q];
        // Rotation angle that zeroes m[p][q] (Golub & Van Loan, symmetric Schur decomposition).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const mkp = m[k * d + p];
          const mkq = m[k * d + q];
          m[k * d + p] = c * mkp - s * mkq;
          m[k * d + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < d; k++) {
          const mpk = m[p * d + k];
          const mqk = m[q * d + k];
          m[p * d + k] = c * mpk - s * mqk;
          m[q * d + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => m[j * d + j] - m[i * d + i]);
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  order.forEach((src, dst) => {
    values[dst] = m[src * d + src];
    for (let k = 0; k < d; k++) vectors[k * d + dst] = v[k * d + src];
  });
  return { values, vectors };
}
