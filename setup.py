"""Builds the native module dermlens._dermlens with the project's CMake build (scripts/setup, which
also fetches llama.cpp once if it is not cached) and puts it, with the data folder, into the
package: the installed module then finds its data in dermlens/share/dermlens (common/data_dir.h).

Environment: DERMLENS_BUILD_DIR (default build/), and what scripts/setup reads."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def configured_python(build_dir):
    """The interpreter the build folder builds the module for (DERMLENS_PYTHON, default /usr/bin/python3)."""
    cache = build_dir / "CMakeCache.txt"
    if cache.exists():
        for line in cache.read_text().splitlines():
            if line.startswith("DERMLENS_PYTHON:"):
                return line.split("=", 1)[1]
    return "/usr/bin/python3"


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("DERMLENS_BUILD_DIR") or ROOT / "build")
        cmake_args = os.environ.get("DERMLENS_CMAKE_ARGS", "")
        python = getattr(sys, "_base_executable", sys.executable)  # the interpreter a venv was made from
        if os.path.realpath(python) != os.path.realpath(configured_python(build_dir)):
            cmake_args += f" -DDERMLENS_PYTHON={python}"  # (only then: the tests' references use it too)
        env = dict(os.environ, DERMLENS_BUILD_DIR=str(build_dir), DERMLENS_SETUP_TARGET="dermlens_python",
                   DERMLENS_CMAKE_ARGS=cmake_args)
        subprocess.run([str(ROOT / "scripts" / "setup")], env=env, check=True)
        built = build_dir / "python" / "dermlens"
        modules = sorted(built.glob("_dermlens*.so"))
        if not modules:
            raise RuntimeError(f"the CMake build left no _dermlens module in {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(modules[0], target)
        data = target.parent / "share" / "dermlens"
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(ROOT / "data", data)


setup(
    ext_modules=[Extension("dermlens._dermlens", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(Path("build") / "setuptools")}},
)
