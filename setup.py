"""Build script: setuptools for the Python packages, CMake for the native module engine._C.

The pybind11 "cmake_example" pattern: CMakeBuild hands each CMakeExtension to CMakeLists.txt and
asks it to put the module where setuptools expects it, so `pip install .` and the editable
`pip install -e .` both work.

Environment:
    ENGINE_WITH_CUDA=auto|1|0   compile the CUDA kernels when nvcc is found (default), always, never
    CMAKE_CUDA_ARCHITECTURES    override the default "80-real;90" (SASS for sm_80/sm_90 + PTX 90)
    CMAKE_ARGS                  extra CMake arguments, space separated
    CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default: all CPUs)
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent

# Top-level source folders that install as subpackages of engine, so user code imports them with
# MegEngine's paths (engine.functional, engine.module, engine.optimizer). They must never install
# as top-level `functional`, `module` or `optim`.
SUBPACKAGE_DIRS = {
    "engine.functional": "functional",
    "engine.module": "module",
    "engine.optimizer": "optim",
}


def _packages():
    packages = find_packages(where=str(ROOT), include=["engine", "engine.*"])
    package_dir = {}
    for name, folder in SUBPACKAGE_DIRS.items():
        if (ROOT / folder / "__init__.py").is_file():
            package_dir[name] = folder
            packages.append(name)
            packages += [f"{name}.{sub}" for sub in find_packages(where=str(ROOT / folder))]
    if (ROOT / "det" / "__init__.py").is_file():
        packages += ["det"] + [f"det.{sub}" for sub in find_packages(where=str(ROOT / "det"))]
    return packages, package_dir


def _cuda_flag():
    value = os.environ.get("ENGINE_WITH_CUDA", "auto").strip().lower()
    flags = {"auto": "AUTO", "": "AUTO", "1": "ON", "on": "ON", "0": "OFF", "off": "OFF"}
    if value not in flags:
        raise ValueError(f"ENGINE_WITH_CUDA must be auto, 1 or 0, got {value!r}")
    return flags[value]


class CMakeExtension(Extension):
    def __init__(self, name, sourcedir=""):
        super().__init__(name, sources=[])
        self.sourcedir = os.fspath(Path(sourcedir).resolve())


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        import pybind11

        # Where setuptools expects engine/_C.<abi>.so: the build folder for a wheel, the source
        # tree for an editable install.
        extdir = Path(self.get_ext_fullpath(ext.name)).parent.resolve()
        cmake_args = [
            f"-DENGINE_OUTPUT_DIR={extdir}",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DENGINE_WITH_CUDA={_cuda_flag()}",
        ]
        if os.environ.get("CMAKE_CUDA_ARCHITECTURES"):
            cmake_args.append(
                f"-DCMAKE_CUDA_ARCHITECTURES={os.environ['CMAKE_CUDA_ARCHITECTURES']}"
            )
        if os.environ.get("CMAKE_ARGS"):
            cmake_args += [a for a in os.environ["CMAKE_ARGS"].split(" ") if a]

        if not os.environ.get("CMAKE_GENERATOR"):
            ninja = self._find_ninja()
            if ninja:
                cmake_args += ["-GNinja", f"-DCMAKE_MAKE_PROGRAM={ninja}"]

        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        build_args = ["--config", "Release", "--parallel", jobs]

        build_temp = Path(self.build_temp) / ext.name
        build_temp.mkdir(parents=True, exist_ok=True)
        self._drop_stale_cache(build_temp, cmake_args)
        subprocess.run(["cmake", ext.sourcedir, *cmake_args], cwd=build_temp, check=True)
        subprocess.run(["cmake", "--build", ".", *build_args], cwd=build_temp, check=True)

    @staticmethod
    def _drop_stale_cache(build_temp, cmake_args):
        # CMake refuses to reconfigure a build folder for another generator, which happens when a
        # build/ left by one install (Ninja) meets another (no ninja, Makefiles).
        cache = build_temp / "CMakeCache.txt"
        if not cache.is_file():
            return
        wanted = "Ninja" if "-GNinja" in cmake_args else os.environ.get("CMAKE_GENERATOR", "")
        for line in cache.read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_GENERATOR:INTERNAL="):
                if wanted and line.split("=", 1)[1] != wanted:
                    shutil.rmtree(build_temp / "CMakeFiles", ignore_errors=True)
                    cache.unlink()
                return

    @staticmethod
    def _find_ninja():
        try:
            import ninja

            path = Path(ninja.BIN_DIR) / "ninja"
            if path.is_file():
                return os.fspath(path)
        except ImportError:
            pass
        return shutil.which("ninja")


packages, package_dir = _packages()

setup(
    packages=packages,
    package_dir=package_dir,
    ext_modules=[CMakeExtension("engine._C", sourcedir=str(ROOT))],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
