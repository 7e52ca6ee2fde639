"""What Dendro measures, for whoever writes or reads it: metric names, status classes, RED aggregates."""
