"""The borders the paper augmentation's affine step may fill, by param name and kornia's padding mode: apart from
augment.py, so that checking the params (smate/config.py) imports no torch."""

# imgaug's constant black, as the paper ran it, or the image reflected into the border.
FILLS = {"constant": "zeros", "reflect": "reflection"}
