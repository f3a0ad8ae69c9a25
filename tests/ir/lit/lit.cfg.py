# lit.cfg.py - lit configuration for the IR pass tests: each .ir file holds `# RUN:` lines that pipe
# irtool's output into FileCheck (STYLE.md: IR in, IR out); a .nn file is a model whose
# `nnc --dump-after PASS` output is checked (the passes that instantiate the language: optim).
# The tools' paths come from `--param irtool=...` and `--param nnc=...` (tests/ir/tests.cmake
# passes the built ones).
import os

import lit.formats

config.name = "nnc-ir"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".ir", ".nn"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(lit_config.params.get("exec_root", "/tmp"), "nnc-ir-lit")
irtool = lit_config.params.get("irtool")
if not irtool:
    lit_config.fatal("pass --param irtool=PATH/TO/irtool")
config.substitutions.append(("%irtool", irtool))
nnc = lit_config.params.get("nnc")
if not nnc:
    lit_config.fatal("pass --param nnc=PATH/TO/nnc")
config.substitutions.append(("%nnc", nnc))
llvm_bin = "/usr/lib/llvm-14/bin"
config.environment["PATH"] = llvm_bin + os.pathsep + os.environ.get("PATH", "")
