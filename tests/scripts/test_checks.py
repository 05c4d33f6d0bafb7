#!/usr/bin/env python3
"""The layering checks catch what they are for: scripts/check-layers fails on a folder that
includes one above it, on a folder missing from src/LAYERS and on a public header including
an internal one; cmake/check-no-cli11.cmake fails on a library file including CLI11. Both
pass on a tree that keeps the rules.

    test_checks.py SOURCE_DIR CMAKE
"""
import pathlib
import subprocess
import sys
import tempfile
import unittest

SOURCE, CMAKE = pathlib.Path(sys.argv[1]), sys.argv[2]


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def tree(root):
    write(root, "src/LAYERS", "# bottom first\nlow\nhigh\n")
    write(root, "src/low/a.h", '#include "dermlens/error.h"\n')
    write(root, "src/high/b.cpp", '#include "low/a.h"\n#include "high/b.h"\n#include <vector>\n')
    write(root, "include/dermlens/api.h", '#include "dermlens/error.h"\n#include <string>\n')


def check_layers(root):
    return subprocess.run([sys.executable, str(SOURCE / "scripts" / "check-layers"), str(root)],
                          capture_output=True, text=True)


def check_cli11(root):
    return subprocess.run([CMAKE, f"-DDERMLENS_CHECK_ROOT={root}", "-P", str(SOURCE / "cmake" / "check-no-cli11.cmake")],
                          capture_output=True, text=True)


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = pathlib.Path(self.dir.name)
        tree(self.root)

    def tearDown(self):
        self.dir.cleanup()

    def test_a_tree_that_keeps_the_rules_passes(self):
        self.assertEqual(check_layers(self.root).returncode, 0)
        self.assertEqual(check_cli11(self.root).returncode, 0)

    def test_an_upward_include_fails_naming_the_file(self):
        write(self.root, "src/low/c.cpp", '#include "high/b.h"\n')
        result = check_layers(self.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn('src/low/c.cpp: includes "high/b.h": high/ is above low/', result.stdout)

    def test_a_folder_missing_from_the_layers_fails(self):
        write(self.root, "src/stray/d.h", "\n")
        self.assertIn("src/stray/ is not in src/LAYERS", check_layers(self.root).stdout)

    def test_a_public_header_including_an_internal_one_fails(self):
        write(self.root, "include/dermlens/leak.h", '#include "low/a.h"\n')
        self.assertIn("include/dermlens/leak.h", check_layers(self.root).stdout)

    def test_cli11_in_the_library_fails_the_configure_step(self):
        write(self.root, "src/high/options.cpp", "#include <CLI/CLI.hpp>\n")
        result = check_cli11(self.root)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("options.cpp includes CLI11", result.stderr)

    def test_the_real_tree_passes(self):
        self.assertEqual(check_layers(SOURCE).returncode, 0, check_layers(SOURCE).stdout)
        self.assertEqual(check_cli11(SOURCE).returncode, 0)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
