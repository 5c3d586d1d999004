"""A network lab for tests and benchmarks: namespaces, veth links, loss, rate caps, outages, delay.

It lives under tools/ (not tests/) so that `bench/network.py` and the tests share one
implementation without the benchmark importing test modules. Everything it makes is
inside network namespaces it created, on addresses of its own (10.99.x.y), and is
removed when the `Lab` context closes, also when the code inside it raised.
"""

from tools.netlab.lab import Lab, LabError, Link, unavailable_reason
from tools.netlab.topology import Natted, Star, natted, star

__all__ = ["Lab", "LabError", "Link", "Natted", "Star", "natted", "star", "unavailable_reason"]
