"""Keep the detector's freed page-sized buffers in the process for its next steps and pages.

One detection allocates and frees some hundred arrays of the working page's size. By default
glibc hands such blocks back to the kernel when they are freed (its mmap and trim thresholds
start low and slide up only as blocks are freed), and every new one then costs fresh zeroed
pages: a process's first detection faults in about 2000 of them at 1400 px, against about 150
with these thresholds; once the sliding threshold has risen past a page's arrays, glibc
reuses them too. Fixed thresholds above the working page's arrays keep that memory in the
heap for reuse from the start, whatever page came before; pages of 40 MP decode into blocks
larger than ``MMAP_THRESHOLD``, which still come from, and go back to, the kernel at once.

It is set when the detector package is imported, so it reaches the whole process on purpose:
the worker's detector processes, the inference container's server and the command line all
run detection again and again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD = -1  # glibc's mallopt() parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's own ceiling for its sliding threshold (64-bit)
TRIM_THRESHOLD = 64 * 1024 * 1024  # free heap kept at its top before it is given back


def keep_freed_pages() -> None:
    """Set glibc's thresholds as above (nothing on other C libraries)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    name = ctypes.util.find_library("c")
    if name is None:
        return
    mallopt = ctypes.CDLL(name).mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
