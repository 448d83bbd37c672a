# The massager firmware, frozen: included by every boards/<name>/manifest.py as
#     include("../manifest.py", board="<name>")
# (MicroPython manifest syntax: docs/reference/manifest.rst; paths are relative to this
# file). Besides the firmware it freezes the board's pin map as the module `board_config`
# (CONFIG = the contents of boards/<name>/board.json), which load_config() prefers over a
# /board.json on the filesystem.
# include, package, module and options are globals that makemanifest provides.
# ruff: noqa: F821
import json
import os
import tempfile

options.defaults(board=None)

package("massager", base_path="../firmware")
module("boot.py", base_path="../firmware")  # safe mode (button held)
module("main.py", base_path="../firmware")  # runs when /main.py is absent

if options.board:
    with open(os.path.join(options.board, "board.json")) as f:
        _config = json.load(f)
    _out = tempfile.mkdtemp(prefix="massager-board-")
    with open(os.path.join(_out, "board_config.py"), "w") as f:
        f.write("# Generated from boards/%s/board.json by boards/manifest.py.\nCONFIG = %r\n"
                % (options.board, _config))
    module("board_config.py", base_path=_out)
