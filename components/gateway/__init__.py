"""The API gateway front door (``microservices:gateway``): :class:`ApiGateway` and its args."""

from .args import ApiGatewayArgs, RouteArgs
from .component import ApiGateway

__all__ = ["ApiGateway", "ApiGatewayArgs", "RouteArgs"]
