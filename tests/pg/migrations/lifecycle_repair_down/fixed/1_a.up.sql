CREATE TABLE lc_ra (x integer); -- reviewed
