"""One forward pass recorded layer by layer: shapes, parameters, MACs, statistics, and why a forward failed."""
