//! Several replicas on one PostgreSQL database are one authorization server.

#![allow(dead_code)]
