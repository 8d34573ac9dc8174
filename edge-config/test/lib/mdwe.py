#!/usr/bin/env python3
"""Run a program the way systemd's MemoryDenyWriteExecute=yes would: the
kernel's PR_SET_MDWE (Linux 6.3+) refuses any writable+executable mapping for
this process and everything it execs. Usage: mdwe.py PROGRAM [ARGS...]"""
import ctypes
import os
import sys

PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.exit(f"mdwe.py: PR_SET_MDWE failed: errno {ctypes.get_errno()}")
os.execv(sys.argv[1], sys.argv[1:])
