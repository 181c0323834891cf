//! `ferrolb explain service`'s pure core on fixture objects, one case of the user's per test: the
//! Service has its address, has none (and why, and what to change), or FerroLB leaves it alone.
//! No cluster: the objects are built as the controller leaves them.

mod explain {
    mod announcement;
    mod assigned;
    mod fixtures;
    mod not_served;
    mod output;
    mod pending;
}
