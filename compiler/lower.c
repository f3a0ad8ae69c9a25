/* lower.c - placeholder */
