"""A client of graphrec's gRPC service (`graphrec serve`), over the stubs
generated from proto/graphrec.proto when the package was built."""
import time

import grpc
import numpy as np

from . import graphrec_pb2 as pb
from . import graphrec_pb2_grpc as pb_grpc

_SOURCES = {"embedding": pb.RECALL_SOURCE_EMBEDDING, "walks": pb.RECALL_SOURCE_WALKS,
            "mixed": pb.RECALL_SOURCE_MIXED, "consistent": pb.RECALL_SOURCE_CONSISTENT}
_KINDS = {"input": pb.ACCOUNT_INPUT, "output": pb.ACCOUNT_OUTPUT, "post": pb.POST}
_EVENTS = {"follow": pb.EVENT_FOLLOW, "unfollow": pb.EVENT_UNFOLLOW, "interaction": pb.EVENT_INTERACTION,
           "post": pb.EVENT_POST, "account": pb.EVENT_ACCOUNT}


class Client:
    """graphrec.Client("127.0.0.1:50051"); every call takes timeout= seconds
    (default 10) and raises grpc.RpcError with the server's status. Recall
    answers are (ids uint64, scores float32) numpy arrays; after one,
    `popularity_fallback` says whether the server answered with the most
    popular items because the account has no vector yet (known only from
    events, before a refresh pass). `token` is sent as a bearer token
    (servers started with --auth-token-file)."""

    def __init__(self, address, timeout=10.0, token=None, credentials=None):
        self._channel = (grpc.secure_channel(address, credentials) if credentials is not None
                         else grpc.insecure_channel(address))
        self._stub = pb_grpc.GraphrecStub(self._channel)
        self._timeout = timeout
        self._metadata = [("authorization", f"Bearer {token}")] if token else None
        self.version = None  # the version that answered the last call
        self.popularity_fallback = None  # whether the last recall answer was the popularity fallback

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request, timeout):
        response = method(request, timeout=timeout or self._timeout, metadata=self._metadata)
        if getattr(response, "version", ""):
            self.version = response.version
        return response

    def _recall(self, response):
        self.popularity_fallback = response.popularity_fallback
        return np.array(response.ids, dtype=np.uint64), np.array(response.scores, dtype=np.float32)

    def similar_accounts(self, account_id, k=10, exclude_followed=False, timeout=None):
        request = pb.SimilarAccountsRequest(account_id=int(account_id), k=k, exclude_followed=exclude_followed)
        return self._recall(self._call(self._stub.SimilarAccounts, request, timeout))

    def recall_authors(self, user_id, k=10, exclude_followed=False, source="embedding", timeout=None):
        request = pb.RecallAuthorsRequest(user_id=int(user_id), k=k, exclude_followed=exclude_followed,
                                          source=_SOURCES[source])
        return self._recall(self._call(self._stub.RecallAuthors, request, timeout))

    def recall_posts(self, user_id, k=10, exclude_seen=False, source="embedding", timeout=None):
        request = pb.RecallPostsRequest(user_id=int(user_id), k=k, exclude_seen=exclude_seen,
                                        source=_SOURCES[source])
        return self._recall(self._call(self._stub.RecallPosts, request, timeout))

    def embeddings(self, ids, kind="input", timeout=None):
        """(rows, dimension) float32 array, one row per id, in request order."""
        request = pb.GetEmbeddingsRequest(ids=[int(i) for i in ids], kind=_KINDS[kind])
        response = self._call(self._stub.GetEmbeddings, request, timeout)
        return np.array([list(e.values) for e in response.embeddings], dtype=np.float32).reshape(
            len(response.embeddings), response.dimension)

    def rank(self, user_id, post_ids, time_unix_s=0, timeout=None):
        """The candidates best first, as dicts (post_id, click, interaction, dwell_seconds, negative,
        profile_visit, completion, score)."""
        request = pb.RankRequest(user_id=int(user_id), post_ids=[int(p) for p in post_ids], time_unix_s=time_unix_s)
        response = self._call(self._stub.Rank, request, timeout)
        return [{"post_id": p.post_id, "click": p.click, "interaction": p.interaction,
                 "dwell_seconds": p.dwell_seconds, "negative": p.negative, "profile_visit": p.profile_visit,
                 "completion": p.completion, "score": p.score} for p in response.posts]

    def push_events(self, events, timeout=None):
        """events: dicts with kind ('follow', 'unfollow', 'interaction', 'post', 'account'), actor,
        object, and optionally time_unix_s, interaction, dwell_ms. Returns (first_sequence, count)."""
        request = pb.PushEventsRequest(events=[
            pb.Event(kind=_EVENTS[e["kind"]], actor=int(e["actor"]), object=int(e.get("object", 0)),
                     time_unix_s=e.get("time_unix_s", 0), interaction=e.get("interaction", 0),
                     dwell_ms=e.get("dwell_ms", 0)) for e in events])
        response = self._call(self._stub.PushEvents, request, timeout)
        return response.first_sequence, response.count

    def wait_until_loaded(self, timeout=30.0):
        """Waits until the server answers (it is UNAVAILABLE while it loads its first
        version); returns its ModelInfoResponse. Raises grpc.RpcError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.model_info(timeout=max(0.1, min(self._timeout, deadline - time.monotonic())))
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() >= deadline:
                    raise
            time.sleep(0.05)

    def model_info(self, timeout=None):
        """The live version's ModelInfoResponse (version, counts, manifest_json, live graph figures)."""
        return self._call(self._stub.ModelInfo, pb.ModelInfoRequest(), timeout)
