-- One database per service; a new service adds its line here.
CREATE DATABASE prm_onboarding;
CREATE DATABASE prm_dealreg;
CREATE DATABASE prm_mdf;
CREATE DATABASE prm_commissions;
CREATE DATABASE prm_reporting;
