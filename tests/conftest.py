"""Every simulation in the tests checks stock conservation day by day (``run --check``)."""

import os

os.environ["FULFILSIM_CHECK"] = "1"  # read by compile_scenario; inherited by CLI subprocesses
