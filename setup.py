"""pip install . — the graphrec Python package (python/graphrec).

The extension (_graphrec) and the gRPC stubs are built by CMake, target
graphrec_python: in a fresh build directory of its own, or in an existing one
named by GRAPHREC_BUILD_DIR (e.g. the build/ that scripts/build.sh made), so
the libraries are not compiled twice. Needs what scripts/setup.sh installs
(pybind11-dev, python3-dev, protobuf-compiler-grpc) and numpy; the client
needs python3-grpcio. On Debian, install into a virtual environment
(python3 -m venv --system-site-packages ENV; ENV/bin/pip install .): the
system interpreter refuses pip installs (PEP 668).
"""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.environ.get("GRAPHREC_BUILD_DIR")
        if build_dir:
            build_dir = os.path.abspath(build_dir)
        else:
            build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, *generator, "-DCMAKE_BUILD_TYPE=Release",
                            "-DGR_BUILD_TESTS=OFF",
                            f"-DPython3_EXECUTABLE={sys.executable}"], check=True)
        jobs = str(os.cpu_count() or 2)
        subprocess.run(["cmake", "--build", build_dir, "--target", "graphrec_python", "--parallel", jobs], check=True)
        built = os.path.join(build_dir, "python", "graphrec")
        target = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(built):  # the extension and the generated stubs
            if name.endswith((".so", "_pb2.py", "_pb2_grpc.py")):
                shutil.copy2(os.path.join(built, name), os.path.join(target, name))


setup(
    name="graphrec",
    version="0.1.0",
    description="Graph embeddings and recall for a social feed: walks, skip-gram, HNSW, the nightly's versions",
    packages=["graphrec"],
    package_dir={"": "python"},
    ext_modules=[Extension("graphrec._graphrec", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    install_requires=["numpy"],
    python_requires=">=3.9",
)
