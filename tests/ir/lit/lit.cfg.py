# lit.cfg.py - lit configuration for the IR pass tests: each .ir file holds `# RUN:` lines that pipe
# irtool's output into FileCheck (STYLE.md: IR in, IR out). irtool's path comes from
# `--param irtool=...` (tests/ir/tests.cmake passes the built one).
import os

import lit.formats

config.name = "nnc-ir"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".ir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(lit_config.params.get("exec_root", "/tmp"), "nnc-ir-lit")
irtool = lit_config.params.get("irtool")
if not irtool:
    lit_config.fatal("pass --param irtool=PATH/TO/irtool")
config.substitutions.append(("%irtool", irtool))
llvm_bin = "/usr/lib/llvm-14/bin"
config.environment["PATH"] = llvm_bin + os.pathsep + os.environ.get("PATH", "")
