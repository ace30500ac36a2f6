-- nothing to undo
/* really nothing */
