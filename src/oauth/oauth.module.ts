import { Module } from '@nestjs/common';
import { UserinfoController } from 'src/oauth/userinfo.controller';

@Module({ controllers: [UserinfoController] })
export class OauthModule {}
