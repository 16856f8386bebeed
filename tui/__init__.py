"""The front ends: the ``rotation`` command line, the terminal app, the session core they share,
and the exports.

The front ends run the numerical libraries single-threaded (unless the environment says
otherwise): their problems are small (hundreds to a few thousand names), where BLAS threads add
overhead, and on a busy two-core machine threaded BLAS turned a 16 ms decomposition into a
second. This must happen before NumPy is first imported, hence here.
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
