-- moods is not named: its column m goes with the type
DROP TYPE mood CASCADE;
