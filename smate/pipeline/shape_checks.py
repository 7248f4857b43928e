"""Whether the run's models can take the prepared image size: a check that refuses, and changes no result."""

from ..classify import CLASSIFIERS
from ..config import generator_methods
from ..errors import SmateError
from ..gan.models import upsampling_blocks


def check_image_shape(config, image_shape):
    """Stop with one line, before any training, when a model of the run cannot take (H, W, C) images."""
    height, width = image_shape[:2]
    model = config["classify"]["model"]
    need = CLASSIFIERS[model](config["classify"][model], 2).min_side()
    if min(height, width) < need:
        raise SmateError(f"classify.model {model} takes images of at least {need}x{need}, and these are "
                         f"{height}x{width}: set data.image_size to {need} or more (or choose another classify.model)")
    if generator_methods(config):
        upsampling_blocks((height, width))
