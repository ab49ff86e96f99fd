"""``Network``: a VPC across N availability zones, or a reference to an existing one.

``args`` holds the arguments and the settings they resolve into once, ``validate`` their validation,
``component`` the component, and ``needs`` what a catalog's services need from the network (checked with
the catalog, before anything is registered).
"""

from .args import ENDPOINT_SERVICES, NAT_STRATEGIES, NetworkArgs, NetworkSettings, resolve_network
from .component import Network, subnet_cidrs
from .needs import validate_network_needs
from .validate import validate_network

__all__ = ["ENDPOINT_SERVICES", "Network", "NetworkArgs", "NetworkSettings", "NAT_STRATEGIES", "resolve_network",
           "subnet_cidrs", "validate_network", "validate_network_needs"]
