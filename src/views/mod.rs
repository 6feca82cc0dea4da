//! Rendering pieces shared by the record screens.

pub mod document;
pub mod row;
pub mod virtual_list;
