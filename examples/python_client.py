#!/usr/bin/python3
"""A Python client of graphrec's gRPC service, written only from
proto/graphrec.proto: the stubs are generated at start-up with protoc and
grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc,
python3-grpcio, python3-protobuf).

Usage: examples/python_client.py [--address 127.0.0.1:50051] ACCOUNT_ID [K]
Prints the similar accounts of ACCOUNT_ID, one "id score" per line.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def generate_stubs(out_dir):
    """protoc --python_out and --grpc_python_out for proto/graphrec.proto."""
    plugin = shutil.which("grpc_python_plugin")
    if plugin is None:
        sys.exit("grpc_python_plugin not found (apt-get install protobuf-compiler-grpc)")
    subprocess.run(["protoc", f"--proto_path={ROOT}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
                    f"--plugin=protoc-gen-grpc_python={plugin}", "proto/graphrec.proto"], check=True)
    sys.path.insert(0, out_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("account_id", type=int)
    parser.add_argument("k", type=int, nargs="?", default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out_dir:
        generate_stubs(out_dir)
        from proto import graphrec_pb2, graphrec_pb2_grpc  # generated above
        with grpc.insecure_channel(args.address) as channel:
            stub = graphrec_pb2_grpc.GraphrecStub(channel)
            request = graphrec_pb2.SimilarAccountsRequest(account_id=args.account_id, k=args.k)
            try:
                response = stub.SimilarAccounts(request, timeout=10)
            except grpc.RpcError as e:
                sys.exit(f"SimilarAccounts failed: {e.code().name}: {e.details()}")
    print(f"# similar accounts of {args.account_id} (version {response.version})")
    for account, score in zip(response.ids, response.scores):
        print(f"{account} {score:.5f}")


if __name__ == "__main__":
    main()
