"""Lesson 9: a cache in Rust that calls a store, a loader and settings from Python."""

from datetime import timedelta
from types import SimpleNamespace

from calling.errors import LimitReached
from target.debug import calling


class Store(dict):
    """A dict that also takes `put(key, value, ttl=...)`, as the cache
    expects of a store."""

    def put(self, key, value, ttl):
        print(f"  store.put({key!r}, {value!r}, ttl={ttl})")
        self[key] = value


def load(key):
    print(f"  load({key!r})")
    return key.upper()


settings = SimpleNamespace(prefix="word:", ttl=timedelta(minutes=5), limit=2)
cache = calling.Cache(Store(), settings)
print("fetch(['a', 'b']):")
print(" ", cache.fetch(["a", "b"], load))
print("fetch(['b', 'c']):")
print(" ", cache.fetch(["b", "c"], load))
print("loaded:", cache.loaded())
print("fetch(['d', 'e', 'f']):")
try:
    cache.fetch(["d", "e", "f"], load)
except LimitReached as error:
    print(f"  {type(error).__module__}.{type(error).__name__}: {error}")
print("loaded:", cache.loaded())
