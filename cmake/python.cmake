# The Python package's native module, dermlens._dermlens (python/), built for DERMLENS_PYTHON with
# Debian's pybind11 when both are found (DERMLENS_PYTHON_MODULE, default ON then). The build tree's
# python/ folder is then an importable package: PYTHONPATH=build/python (docs/python.md).
set(Python_EXECUTABLE "${DERMLENS_PYTHON}")
find_package(Python 3.9 COMPONENTS Interpreter Development.Module)
set(PYBIND11_FINDPYTHON ON)
if(Python_FOUND)
  find_package(pybind11 2.10 CONFIG QUIET)
endif()
if(Python_FOUND AND pybind11_FOUND)
  set(dermlens_python_default ON)
else()
  set(dermlens_python_default OFF)
endif()
option(DERMLENS_PYTHON_MODULE "Build the Python module (pybind11)" ${dermlens_python_default})
if(DERMLENS_PYTHON_MODULE)
  if(NOT pybind11_FOUND)
    message(FATAL_ERROR "DERMLENS_PYTHON_MODULE needs pybind11 (Debian: pybind11-dev python3-pybind11) and "
                        "the Python headers of ${Python_EXECUTABLE} (python3-dev)")
  endif()
  add_subdirectory(python)
endif()
