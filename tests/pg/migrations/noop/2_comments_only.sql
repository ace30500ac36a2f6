-- nothing to do yet
/* a block
   comment */
