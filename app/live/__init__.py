"""The live room: questions, votes, presence and the Socket.IO namespace `/live`."""
