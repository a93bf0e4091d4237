"""Path maps and s32s.ini: what a master or slave moves, and the runs that move it."""
