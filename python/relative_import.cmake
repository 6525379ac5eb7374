# cmake -DFILE=graphrec_pb2_grpc.py -P relative_import.cmake: the generated
# stub imports its sibling as a top-level module; make it relative.
file(READ ${FILE} text)
string(REPLACE "import graphrec_pb2 as" "from . import graphrec_pb2 as" text "${text}")
file(WRITE ${FILE} "${text}")
