"""GrimStream v1: the pure protocol, transports, and the producers/consumers built on them."""
